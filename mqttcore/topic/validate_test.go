package topic

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		topic   string
		wantErr error
	}{
		{"simple", "sensors/kitchen/temperature", nil},
		{"single char", "a", nil},
		{"separator only", "/", nil},
		{"leading separator", "/finance", nil},
		{"trailing separator", "sport/", nil},
		{"empty levels", "a//b", nil},
		{"space", "my topic/with space", nil},
		{"dollar", "$SYS/broker/uptime", nil},
		{"unicode", "capteurs/température/°C", nil},
		{"max length", strings.Repeat("a", 65535), nil},
		{"empty [MQTT-4.7.3-1]", "", ErrEmpty},
		{"plus [MQTT-4.7.1-1]", "sport/+", ErrWildcardInName},
		{"hash [MQTT-4.7.1-1]", "sport/#", ErrWildcardInName},
		{"plus inside level", "a+b", ErrWildcardInName},
		{"null [MQTT-4.7.3-2]", "a\x00b", ErrNullChar},
		{"too long [MQTT-4.7.3-3]", strings.Repeat("a", 65536), ErrTooLong},
		{"bad utf-8", "a/\xff", ErrInvalidUTF8},
		{"surrogate [MQTT-1.5.3-1]", "a/\xed\xa0\x80", ErrInvalidUTF8},
		{"overlong null", "a/\xc0\x80", ErrInvalidUTF8},
		{"truncated sequence", "a/\xe2\x82", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.topic)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestValidateFilter(t *testing.T) {
	tests := []struct {
		name    string
		filter  string
		wantErr error
	}{
		{"literal", "sport/tennis/player1", nil},
		{"hash alone", "#", nil},
		{"hash last", "sport/tennis/#", nil},
		{"hash after empty level", "/#", nil},
		{"plus alone", "+", nil},
		{"plus first with hash", "+/tennis/#", nil},
		{"plus middle", "sport/+/player1", nil},
		{"plus plus", "+/+", nil},
		{"plus after empty level", "/+", nil},
		{"plus empty levels", "+//+/", nil},
		{"dollar", "$SYS/#", nil},
		{"separator only", "/", nil},
		{"max length", strings.Repeat("+/", 32767) + "#", nil},
		{"empty [MQTT-4.7.3-1]", "", ErrEmpty},
		{"hash glued [MQTT-4.7.1-2]", "sport/tennis#", ErrMultiLevelWildcard},
		{"hash not last [MQTT-4.7.1-2]", "sport/tennis/#/ranking", ErrMultiLevelWildcard},
		{"hash then separator", "#/", ErrMultiLevelWildcard},
		{"hash first in level", "#a", ErrMultiLevelWildcard},
		{"two hashes", "##", ErrMultiLevelWildcard},
		{"plus glued [MQTT-4.7.1-3]", "sport+", ErrSingleLevelWildcard},
		{"plus inside level", "a/b+c/d", ErrSingleLevelWildcard},
		{"two pluses", "++", ErrSingleLevelWildcard},
		{"null [MQTT-4.7.3-2]", "a/\x00/#", ErrNullChar},
		{"too long [MQTT-4.7.3-3]", strings.Repeat("a", 65536), ErrTooLong},
		{"bad utf-8", "\xfe/#", ErrInvalidUTF8},
		{"surrogate [MQTT-1.5.3-1]", "\xed\xbf\xbf", ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateFilter(tt.filter)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestValidate_ErrorDetail(t *testing.T) {
	err := ValidateFilter("sensors/kit+chen/#")
	if err == nil || !strings.Contains(err.Error(), "byte 11") || !strings.HasPrefix(err.Error(), "topic: ") {
		t.Fatalf("error %q: want the package prefix and the offset of '+'", err)
	}
	long := "a/+" + strings.Repeat("b", 1000)
	if err := ValidateName(long); err == nil || len(err.Error()) > 200 {
		t.Fatalf("error %q: want a bounded message for a long topic", err)
	}
}

// checkErr fails unless err wraps want (or both are nil).
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}
