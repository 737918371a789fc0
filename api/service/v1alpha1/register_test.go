package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConstants(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Type, "shoot-falco-service"},
		{ShootLabel, "extensions.extensions.gardener.cloud/shoot-falco-service"},
		{GroupName, "falco.extensions.gardener.cloud"},
		{Kind, "FalcoServiceConfig"},
		{SchemeGroupVersion.String(), "falco.extensions.gardener.cloud/v1alpha1"},
	} {
		assert.Equal(t, c.want, c.got)
	}
}
