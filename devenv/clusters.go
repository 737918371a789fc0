package devenv

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// cluster is one local API server with etcd, its data in the state
// directory so that it outlives a restart.
type cluster struct {
	name string
	env  *envtest.Environment
	// admin talks to it as the developer; Client with scheme.
	admin  *rest.Config
	Client client.Client
	// Kubeconfig is the admin kubeconfig's path.
	Kubeconfig string
}

// startCluster starts the API server name with the CRDs in crdDirs and
// writes the admin kubeconfig to state/NAME.kubeconfig.
func startCluster(name, state, assets string, crdDirs []string, s *k8sruntime.Scheme) (*cluster, error) {
	dataDir := filepath.Join(state, name, "etcd")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		CRDDirectoryPaths:        crdDirs,
		ErrorIfCRDPathMissing:    true,
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	te.ControlPlane.Etcd = &envtest.Etcd{DataDir: dataDir}
	if _, err := te.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s API server from %s: %w", name, assets, err)
	}
	c := &cluster{name: name, env: te}
	user, err := te.AddUser(envtest.User{Name: "dev-admin", Groups: []string{"system:masters"}}, nil)
	if err == nil {
		c.admin = user.Config()
		c.Kubeconfig = filepath.Join(state, name+".kubeconfig")
		err = c.writeKubeconfig(user)
	}
	if err == nil {
		cfg := rest.CopyConfig(c.admin)
		cfg.QPS, cfg.Burst = 200, 400
		cfg.Timeout = 30 * time.Second // every request has a deadline
		c.Client, err = client.New(cfg, client.Options{Scheme: s})
	}
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("%s API server: %w", name, err)
	}
	return c, nil
}

func (c *cluster) writeKubeconfig(user *envtest.AuthenticatedUser) error {
	data, err := user.KubeConfig()
	if err != nil {
		return err
	}
	return os.WriteFile(c.Kubeconfig, data, 0o600)
}

// userKubeconfig writes a kubeconfig for another user of the cluster
// (system:masters) to path, for a child process.
func (c *cluster) userKubeconfig(name, path string) error {
	user, err := c.env.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	data, err := user.KubeConfig()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func (c *cluster) stop() error {
	if err := c.env.Stop(); err != nil {
		return fmt.Errorf("stopping the %s API server: %w", c.name, err)
	}
	return nil
}
