module example.com/forbidden

go 1.26

require sigs.k8s.io/controller-runtime v0.0.0

replace sigs.k8s.io/controller-runtime => ./fakecr
