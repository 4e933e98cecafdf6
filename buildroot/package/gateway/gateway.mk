################################################################################
#
# gateway (edgegw)
#
################################################################################

GATEWAY_VERSION = $(shell cat $(BR2_EXTERNAL_EDGEGW_PATH)/../VERSION 2>/dev/null || echo dev)
# Built from the source tree this BR2_EXTERNAL lives in. Buildroot vendors Go modules only for
# downloaded sources, so the tree must carry vendor/ (`make vendor`); the build then runs with
# GOFLAGS=-mod=vendor GOPROXY=off, fully offline.
GATEWAY_SITE = $(BR2_EXTERNAL_EDGEGW_PATH)/..
GATEWAY_SITE_METHOD = local
GATEWAY_LICENSE = Apache-2.0
GATEWAY_GOMOD = github.com/edgegw/edgegw
GATEWAY_BUILD_TARGETS = cmd/gateway
GATEWAY_LDFLAGS = -s -w -X main.version=$(GATEWAY_VERSION)
# golang-package turns cgo on when the toolchain can link it; the gateway is pure Go and static.
GATEWAY_GO_ENV = CGO_ENABLED=0

define GATEWAY_USERS
	gateway -1 gateway -1 * /var/lib/gateway - gpio,i2c,dialout edgegw gateway
endef

# The config may hold secrets: readable by the service's group only.
define GATEWAY_PERMISSIONS
	/etc/gateway/gateway.yaml f 640 root gateway - - - - -
	/etc/gateway/gateway.yaml.example f 640 root gateway - - - - -
endef

define GATEWAY_INSTALL_CONFIG
	$(INSTALL) -D -m 0640 $(@D)/examples/pi.yaml $(TARGET_DIR)/etc/gateway/gateway.yaml.example
	if [ ! -e $(TARGET_DIR)/etc/gateway/gateway.yaml ]; then \
		$(INSTALL) -D -m 0640 $(@D)/examples/pi.yaml $(TARGET_DIR)/etc/gateway/gateway.yaml; \
	fi
endef
GATEWAY_POST_INSTALL_TARGET_HOOKS += GATEWAY_INSTALL_CONFIG

define GATEWAY_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/systemd/gateway.service \
		$(TARGET_DIR)/usr/lib/systemd/system/gateway.service
	$(GATEWAY_INSTALL_REMOTE_CONFIG_DROPIN)
endef

# Remote configuration replaces /etc/gateway/gateway.yaml: the drop-in makes the directory writable.
ifeq ($(BR2_PACKAGE_GATEWAY_REMOTE_CONFIG),y)
define GATEWAY_INSTALL_REMOTE_CONFIG_DROPIN
	$(INSTALL) -D -m 0644 $(@D)/systemd/gateway.service.d/remote-config.conf \
		$(TARGET_DIR)/usr/lib/systemd/system/gateway.service.d/remote-config.conf
endef
endif

$(eval $(golang-package))
