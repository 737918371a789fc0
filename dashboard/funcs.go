package dashboard

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ago is how long before now t was, or how long after now it is, roughly.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		s = fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

// percent is part of whole in percent (0 for an empty whole).
func percent(part, whole int32) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// shootLink is the dashboard path of the ShootRollout of "namespace/name".
func shootLink(shoot string) string {
	ns, name, _ := strings.Cut(shoot, "/")
	return Prefix + "shootrollouts/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}
