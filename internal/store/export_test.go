package store

// SweepDue is sweepDue, for the test that checks the sweep's query plan.
const SweepDue = sweepDue
