// Package suggest finds the known name closest to a misspelt one, for "did
// you mean" hints in configuration errors. It is shared by config (keys)
// and sensors (driver options), which may not import each other.
package suggest

// Closest returns the name of known closest to key by edit distance, if one
// is within a third of key's length (plus one); among equally close names
// the first in known wins.
func Closest(key string, known []string) (string, bool) {
	best, bestDist := "", len(key)/3+2 // one more than the farthest accepted
	for _, k := range known {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, best != ""
}

//

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
