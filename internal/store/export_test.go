package store

// SweepDue is sweepDue, for the test that checks the sweep's query plan.
const SweepDue = sweepDue

// ProviderBookingsQuery is ProviderBookings' query, for the test of its plan.
const ProviderBookingsQuery = providerBookings
