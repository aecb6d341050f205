package worker

import "sync/atomic"

// NetworkState says whether this region's own network is down: every
// control target failed in the control loop's last round. Probes that
// finish meanwhile say nothing about the providers, so the sinks count them
// apart (llmprobe_probes_unmeasured_total) and leave them out of the
// availability the status API reports. The zero value is up. Safe for
// concurrent use.
type NetworkState struct{ down atomic.Bool }

// Down reports whether the region's network is down.
func (n *NetworkState) Down() bool { return n != nil && n.down.Load() }

// set records a control round: down when there were targets and none
// answered.
func (n *NetworkState) set(targets, answered int) {
	if n != nil {
		n.down.Store(targets > 0 && answered == 0)
	}
}
