package shoot

import "sigs.k8s.io/controller-runtime/pkg/client"

const S = client.C
