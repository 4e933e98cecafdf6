package config

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

var sensorNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// validateSensors checks the common keys of each sensor; driver options are
// the driver's to check.
func (p *parser) validateSensors(sensors []Sensor) {
	seen := map[string]int{}
	for i, s := range sensors {
		path := fmt.Sprintf("sensors[%d]", i)
		if p.required(path+".name", s.Name) {
			if !sensorNameRE.MatchString(s.Name) {
				p.failAt(path+".name", "%q: use letters, digits, '_' and '-' only", s.Name)
			} else if line, dup := seen[s.Name]; dup {
				p.failAt(path+".name", "duplicate sensor name %q (first on line %d)", s.Name, line)
			} else {
				seen[s.Name] = p.line(path + ".name")
			}
		}
		p.required(path+".driver", s.Driver)
		p.atLeast(path+".interval", s.Interval, Duration(10*time.Millisecond))
		p.atLeast(path+".timeout", s.Timeout, Duration(time.Millisecond))
		if p.has(path + ".topic") {
			p.topicPrefix(path+".topic", s.Topic)
		}
		p.qos(path+".qos", s.QoS)
		for q, pr := range s.Process {
			p.validateProcess(path+".process."+q, q, pr)
		}
	}
}

func (p *parser) validateProcess(path, quantity string, pr Process) {
	if quantity == "" || strings.ContainsAny(quantity, "/+#\x00") {
		p.failAt(path, "%q is not a quantity name: it is one topic level, without / + #", quantity)
	}
	p.finite(path+".scale", pr.Scale, math.Inf(-1))
	if pr.Scale == 0 {
		p.failAt(path+".scale", "must not be 0")
	}
	p.finite(path+".offset", pr.Offset, math.Inf(-1))
	p.intRange(path+".round", pr.Round, -1, 15)
	p.finite(path+".deadband", pr.Deadband, 0)
	p.atLeast(path+".max_interval", pr.MaxInterval, 0)
}
