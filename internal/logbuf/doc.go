// Package logbuf batches log lines into few writes: a busy server's
// access log then costs one write(2) per batch instead of one per
// request, which on the 2-core VMs this is measured on was the largest
// share of the access log's cost. Lines stay whole and in order, are out
// within the flush interval, and a warning or an error goes out at once.
package logbuf
