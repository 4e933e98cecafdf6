//go:build race

package offline

// raceEnabled: the race detector slows bbolt ~5×; big tests scale down.
const raceEnabled = true
