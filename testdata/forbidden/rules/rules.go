package rules

import (
	"example.com/forbidden/controllers/x"
	"example.com/forbidden/internal/kit"
)

const R = kit.K + x.X
