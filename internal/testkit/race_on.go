//go:build race

package testkit

// Race says the race detector is on: a test that replays hours of rule
// evaluations picks a representative subset then (the detector costs 5-10x
// the CPU) and says which part it left to the run without it.
const Race = true
