// Package testenv starts what the controller's integration tests and
// benchmarks run against: a real kube-apiserver and etcd (envtest, from
// KUBEBUILDER_ASSETS as built by hack/envtest-assets.sh) with falcops' CRDs
// and a Gardener Shoot CRD, and a real OCI registry on 127.0.0.1 that can be
// stopped and started again and counts the requests it serves.
package testenv
