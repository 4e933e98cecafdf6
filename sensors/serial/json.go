package serial

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/edgegw/edgegw/sensors"
)

// Limits on what one JSON line may turn into.
const (
	maxJSONFields = 64 // quantities per line
	maxJSONDepth  = 8  // nesting of objects
)

// jsonParser reads one JSON object per line; numeric fields are quantities.
type jsonParser struct{}

func (jsonParser) parse(line string) ([]sensors.Reading, error) {
	if line[0] != '{' {
		return nil, errors.New("serial: json: not an object")
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		return nil, fmt.Errorf("serial: json: %w", err)
	}
	var rs []sensors.Reading
	if err := flatten("", obj, 0, &rs); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, errors.New("serial: json: no numeric fields")
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Quantity < rs[j].Quantity })
	return rs, nil
}

// flatten appends the numeric fields of obj, nested names joined with "_".
// Fields whose name cannot be a quantity are skipped.
func flatten(prefix string, obj map[string]any, depth int, rs *[]sensors.Reading) error {
	if depth >= maxJSONDepth {
		return errors.New("serial: json: nested too deep")
	}
	for k, v := range obj {
		name := prefix + k
		switch v := v.(type) {
		case float64:
			if sensors.ValidQuantity(name) != nil || math.IsInf(v, 0) {
				continue
			}
			if len(*rs) == maxJSONFields {
				return fmt.Errorf("serial: json: more than %d numeric fields", maxJSONFields)
			}
			*rs = append(*rs, sensors.Reading{Quantity: name, Value: v})
		case map[string]any:
			if err := flatten(name+"_", v, depth+1, rs); err != nil {
				return err
			}
		}
	}
	return nil
}
