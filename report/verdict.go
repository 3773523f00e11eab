package report

// Settle counts the checks per status and derives the verdict from every
// section: a failed check, a failed matrix cell, a regressing gate or a
// split that failed or a path whose logs and xDS disagree fails the run; else anything undecided (or a file
// that could not be read, Problems) leaves it undecided; a run with no check at all is empty.
func (r *Report) Settle() {
	r.Counts = Counts{}
	for _, c := range r.Checks {
		r.Counts.add(c.Status)
	}
	switch {
	case r.failed():
		r.Verdict = VerdictFail
	case r.Counts.Undecided > 0 || len(r.Problems) > 0 || (r.Gate != nil && len(r.Gate.Undecided) > 0) || r.splitUndecided():
		r.Verdict = VerdictUndecided
	case r.Counts.Passed == 0 && len(r.Matrix) == 0 && r.Gate == nil:
		r.Verdict = VerdictEmpty
	default:
		r.Verdict = VerdictPass
	}
}

func (c *Counts) add(s Status) {
	switch s {
	case Passed:
		c.Passed++
	case Failed:
		c.Failed++
	case Skipped:
		c.Skipped++
	case Undecided:
		c.Undecided++
	}
}

func (r *Report) failed() bool {
	if r.Counts.Failed > 0 {
		return true
	}
	if r.Gate != nil && r.Gate.Verdict == "fail" {
		return true
	}
	for _, c := range r.Matrix {
		if c.Failed > 0 || c.Error != "" {
			return true
		}
	}
	for _, s := range r.Splits {
		if s.Decision == "fail" {
			return true
		}
	}
	for _, p := range r.Paths {
		if p.Disagree > 0 {
			return true
		}
	}
	return false
}

// splitUndecided is true when a split ran out of samples before deciding.
func (r *Report) splitUndecided() bool {
	for _, s := range r.Splits {
		if s.Decision == "need-more" {
			return true
		}
	}
	return false
}
