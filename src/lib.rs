//! The airssys-rt test suite: integration tests, trybuild cases, benchmarks and examples.
