//! Zone transfers (AXFR, IXFR, NOTIFY, TSIG) and secondary mode: being written.
