package sensors

import "time"

// clockFloor is the fallback test for an unset clock: no reading taken by
// this software can predate 2020.
var clockFloor = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
