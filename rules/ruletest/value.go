package ruletest

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// kind is how libsinsp compares values of a field type (ppm_param_type).
type kind uint8

const (
	kString kind = iota // PT_CHARBUF, PT_FSPATH, PT_FSRELPATH: C strings
	kBytes              // PT_BYTEBUF: byte buffers
	kInt                // signed integers (PT_INT*, PT_FD, PT_PID, PT_ERRNO)
	kUint               // unsigned integers, times, ports, flags, modes
	kBool               // PT_BOOL
	kDouble             // PT_DOUBLE
	kIPAddr             // PT_IPADDR and friends
	kIPNet              // PT_IPNET: the field yields an address, constants are networks
	kDyn                // PT_DYN (evt.rawarg): the type depends on the event parameter
)

// ftype is a field's (transformed) type: the comparison kind, the integer
// width and whether the field is multi-valued (EPF_IS_LIST).
type ftype struct {
	kind kind
	bits uint8  // integer width
	list bool   // EPF_IS_LIST
	name string // libs type name in lower case, for messages
}

func (t ftype) String() string {
	if t.list {
		return t.name + " (list)"
	}
	return t.name
}

var (
	typeCharbuf = ftype{kind: kString, name: "charbuf"}
	typeUint64  = ftype{kind: kUint, bits: 64, name: "uint64"}
)

// typeOf maps a catalog type (libs ppm_param_type name without PT_, lower
// case) to its comparison kind, as flt_compare in filter_compare.cpp groups
// them.
func typeOf(name string, list bool) (ftype, error) {
	t := ftype{name: name, list: list}
	switch name {
	case "charbuf", "fspath", "fsrelpath":
		t.kind = kString
	case "bytebuf":
		t.kind = kBytes
	case "int8":
		t.kind, t.bits = kInt, 8
	case "int16":
		t.kind, t.bits = kInt, 16
	case "int32":
		t.kind, t.bits = kInt, 32
	case "int64", "fd", "pid", "errno":
		t.kind, t.bits = kInt, 64
	case "uint8", "flags8", "enumflags8", "sigtype", "l4proto":
		t.kind, t.bits = kUint, 8
	case "uint16", "flags16", "enumflags16", "port", "syscallid":
		t.kind, t.bits = kUint, 16
	case "uint32", "flags32", "enumflags32", "mode", "uid", "gid":
		t.kind, t.bits = kUint, 32
	case "uint64", "reltime", "abstime":
		t.kind, t.bits = kUint, 64
	case "bool":
		t.kind = kBool
	case "double":
		t.kind = kDouble
	case "ipaddr", "ipv4addr", "ipv6addr":
		t.kind = kIPAddr
	case "ipnet", "ipv4net", "ipv6net":
		t.kind = kIPNet
	case "dyn":
		t.kind = kDyn
	default:
		return t, fmt.Errorf("field type %q is not supported by the rule-test evaluator", name)
	}
	return t, nil
}

// value is one extracted or constant value. s holds strings and buffers and
// the text of every other value; n holds integers (two's complement for
// signed ones) and booleans; f doubles; ip addresses; net networks (constants
// compared with kIPNet fields).
type value struct {
	s   string
	n   uint64
	f   float64
	ip  netip.Addr
	net netip.Prefix
}

// text renders a value as libsinsp's rawval_to_string does for the list
// elements of transformer arguments (decimal integers, true/false).
func (v value) text(t ftype) string {
	switch t.kind {
	case kInt:
		return strconv.FormatInt(int64(v.n), 10)
	case kUint:
		return strconv.FormatUint(v.n, 10)
	case kBool:
		if v.n != 0 {
			return "true"
		}
		return "false"
	case kDouble:
		return strconv.FormatFloat(v.f, 'f', 1, 64)
	case kIPAddr, kIPNet:
		if v.ip.IsValid() {
			return v.ip.String()
		}
	}
	return v.s
}

// parseConst parses a constant of a condition (a right-hand value) for a
// field of type t, as sinsp_filter_value_parser::string_to_rawval does
// (value_parser.cpp).
func parseConst(t ftype, s string) (value, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return value{}, fmt.Errorf("filter value cannot contain a NUL byte (\\x00)")
	}
	switch t.kind {
	case kString, kBytes, kDyn:
		return value{s: s}, nil
	case kInt:
		n, err := scanInt(s, t.bits)
		return value{s: s, n: n}, err
	case kUint:
		if t.name == "port" {
			return parsePort(s)
		}
		n, err := scanUint(s, t.bits)
		return value{s: s, n: n}, err
	case kBool:
		switch s {
		case "true":
			return value{s: s, n: 1}, nil
		case "false":
			return value{s: s}, nil
		}
		return value{}, fmt.Errorf("unrecognized boolean value %s", s)
	case kDouble:
		// libsinsp parses double constants with parsed32: integers only.
		n, err := scanInt(s, 32)
		return value{s: s, f: float64(int32(n))}, err
	case kIPAddr:
		a, err := parseIP(s)
		return value{s: s, ip: a}, err
	case kIPNet:
		p, err := parseNet(s)
		return value{s: s, net: p}, err
	}
	return value{}, fmt.Errorf("unsupported type %s", t.name)
}

// parseEventValue parses a value given for a field in a test event. It
// accepts what the field would yield in Falco: numbers for numeric fields,
// true/false for booleans, an address for address and network fields.
func parseEventValue(t ftype, s string) (value, error) {
	switch t.kind {
	case kDouble:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return value{}, fmt.Errorf("%q is not a number", s)
		}
		return value{s: s, f: f}, nil
	case kIPNet:
		a, err := parseIP(s)
		return value{s: s, ip: a}, err
	case kUint:
		if t.name == "port" {
			n, err := scanUint(s, 16)
			return value{s: s, n: n}, err
		}
	}
	return parseConst(t, s)
}

// scanDigits reads what sscanf("%d%c") accepts: leading white space, an
// optional sign and decimal digits, and nothing after them. Out-of-range
// magnitudes saturate as strtol does.
func scanDigits(s string) (neg bool, mag uint64, err error) {
	r := strings.TrimLeft(s, " \t\n\v\f\r")
	if r != "" && (r[0] == '+' || r[0] == '-') {
		neg = r[0] == '-'
		r = r[1:]
	}
	if r == "" {
		return false, 0, fmt.Errorf("%s is not a valid number", s)
	}
	for i := 0; i < len(r); i++ {
		if r[i] < '0' || r[i] > '9' {
			return false, 0, fmt.Errorf("%s is not a valid number", s)
		}
	}
	mag, perr := strconv.ParseUint(r, 10, 64)
	if perr != nil {
		mag = math.MaxUint64
	}
	return neg, mag, nil
}

// scanInt parses a signed number and truncates it to bits, as the
// sinsp_numparser::parsed8/16/32/64 casts do.
func scanInt(s string, bits uint8) (uint64, error) {
	neg, mag, err := scanDigits(s)
	if err != nil {
		return 0, err
	}
	var n int64
	switch {
	case !neg && mag > math.MaxInt64:
		n = math.MaxInt64
	case neg && mag > 1<<63:
		n = math.MinInt64
	case neg:
		n = -int64(mag)
	default:
		n = int64(mag)
	}
	return uint64(truncSigned(n, bits)), nil
}

func truncSigned(n int64, bits uint8) int64 {
	switch bits {
	case 8:
		return int64(int8(n))
	case 16:
		return int64(int16(n))
	case 32:
		return int64(int32(n))
	}
	return n
}

// scanUint parses an unsigned number the way sscanf("%u") does (a minus sign
// negates modulo 2^64) and truncates it to bits.
func scanUint(s string, bits uint8) (uint64, error) {
	neg, mag, err := scanDigits(s)
	if err != nil {
		return 0, err
	}
	if neg {
		mag = -mag
	}
	return truncUnsigned(mag, bits), nil
}

func truncUnsigned(n uint64, bits uint8) uint64 {
	switch bits {
	case 8:
		return uint64(uint8(n))
	case 16:
		return uint64(uint16(n))
	case 32:
		return uint64(uint32(n))
	}
	return n
}

// services resolves the few service names a rule may compare a port with;
// libsinsp asks getservbyname (the host's /etc/services).
var services = map[string]uint64{
	"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "pop3": 110,
	"ntp": 123, "imap": 143, "snmp": 161, "ldap": 389, "https": 443, "imaps": 993, "pop3s": 995,
}

// parsePort parses a PT_PORT constant: digits, or a service name.
func parsePort(s string) (value, error) {
	if s == "" {
		return value{s: s}, nil
	}
	if strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return value{}, fmt.Errorf("unrecognized protocol %s", s)
		}
		return value{s: s, n: uint64(uint16(n))}, nil
	}
	if n, ok := services[s]; ok {
		return value{s: s, n: n}, nil
	}
	return value{}, fmt.Errorf("unrecognized protocol %s (falcops test knows numeric ports and a few well-known service names)", s)
}

// parseIP parses an address: IPv4 when it contains a dot (inet_pton
// AF_INET), IPv6 otherwise, as string_to_rawval does for PT_IPADDR.
func parseIP(s string) (netip.Addr, error) {
	if strings.Contains(s, ".") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("unrecognized IPv4 address %s", s)
		}
		return a, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("unrecognized IPv6 address %s", s)
	}
	return a, nil
}

// parseNet parses a network "addr/bits" (PT_IPV4NET / PT_IPV6NET).
func parseNet(s string) (netip.Prefix, error) {
	ip, mask, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, fmt.Errorf("unrecognized IP network %s", s)
	}
	a, err := parseIP(ip)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("unrecognized IP address %s", s)
	}
	var bits uint64
	if a.Is4() {
		// the netmask is parsed with parseu8: %u, then cut to 8 bits
		bits, err = scanUint(mask, 8)
	} else {
		bits, err = strconv.ParseUint(mask, 10, 8)
	}
	if err != nil || int(bits) > a.BitLen() {
		return netip.Prefix{}, fmt.Errorf("invalid netmask %s", mask)
	}
	return netip.PrefixFrom(a, int(bits)), nil
}
