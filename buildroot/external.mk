include $(sort $(wildcard $(BR2_EXTERNAL_EDGEGW_PATH)/package/*/*.mk))
