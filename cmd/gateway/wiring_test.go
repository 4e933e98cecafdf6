package main

import (
	"testing"

	"github.com/edgegw/edgegw/config"
)

// The MQTT 5.0 limits reach broker.Options: the file's values, 0 meaning
// none for the alias counts, and the defaults when absent.
func TestBrokerOptions_mqtt5Limits(t *testing.T) {
	for _, tt := range []struct {
		name, limits            string
		recv, aliasIn, aliasOut int
	}{
		{"defaults", "{}", 256, 16, 16},
		{"set", "{receive_maximum: 10, topic_alias_maximum: 3, topic_alias_out: 7}", 10, 3, 7},
		{"none", "{topic_alias_maximum: 0, topic_alias_out: 0}", 256, -1, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse("gw.yaml", []byte("gateway: {id: gw, data_dir: /tmp/x}\nbroker: {limits: "+tt.limits+"}\n"))
			if err != nil {
				t.Fatal(err)
			}
			o, err := brokerOptions(c)
			if err != nil {
				t.Fatal(err)
			}
			if o.ReceiveMaximum != tt.recv || o.TopicAliasMaximum != tt.aliasIn || o.TopicAliasOut != tt.aliasOut {
				t.Errorf("receive maximum %d, topic alias maximum %d, out %d; want %d, %d, %d",
					o.ReceiveMaximum, o.TopicAliasMaximum, o.TopicAliasOut, tt.recv, tt.aliasIn, tt.aliasOut)
			}
		})
	}
}
