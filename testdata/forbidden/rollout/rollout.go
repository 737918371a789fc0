package rollout

import (
	"example.com/forbidden/rules"
	"example.com/forbidden/shoot"
)

const O = rules.R + shoot.S
