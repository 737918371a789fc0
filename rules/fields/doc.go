// Package fields is the catalog of Falco filter fields per event source and the
// syscall event names, used to validate rule conditions, outputs and exceptions.
//
// The data lives in fields.tsv and events.tsv (embedded, parsed once). It was
// collected from the falcosecurity/libs field tables (sinsp_filtercheck_*.cpp,
// every release from 0.7 to master, including classes since removed such as
// container, k8s, mesos, syslog, tracer and evtin), driver/event_table.c and the
// ppm_sc syscall list, and from the falcosecurity/plugins field lists (k8saudit,
// cloudtrail, okta, github, gcpaudit, json, container, k8smeta, krsi,
// anomalydetection). Since/Until are Falco engine versions derived from the libs
// version each Falco release shipped.
package fields
