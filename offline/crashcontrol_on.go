//go:build crashcontrol

package offline

// crashControlNoSync makes bbolt skip every fsync: only for the power-cut
// simulator's control run, which must show that unsynced data is lost. Never
// ship a binary built with -tags crashcontrol.
const crashControlNoSync = true
