// Package agent is the rules supervisor that runs beside Falco in each
// pod (cmd/falcops-agent): it installs the pinned rulesets into a fresh
// directory and swaps the whole set in at once, the way kubelet updates a
// ConfigMap volume, so that Falco's file watcher fires one validated hot
// reload and never reads half of an update.
//
// The tree Falco loads (its rules_files entry is the directory):
//
//	rules.d/..set-123/10-falco-rules-falco_rules.yaml   the files of one set
//	rules.d/..data -> ..set-123                         renamed atomically per swap
//	rules.d/10-falco-rules-falco_rules.yaml -> ..data/10-falco-rules-falco_rules.yaml
//
// Falco lists a rules directory without recursion and keeps regular files
// (following symlinks) named *.yaml or *.yml, sorted by name, so `..data`
// and the `..set-*` directories are never loaded and the names' numeric
// prefixes give the load order (falco_configuration::read_rules_file_directory
// in userspace/falco/configuration.cpp). With watch_config_files it watches
// the directory for IN_CREATE|IN_DELETE|IN_MOVE and each loaded file for
// IN_CLOSE_WRITE|IN_MOVE_SELF|IN_DELETE_SELF, debounced 100 ms
// (falco::app::restart_handler::start in userspace/falco/app/restart_handler.cpp):
// the rename of ..data and the removal of the previous set's files fall in
// one debounce window, so one swap is one reload.
package agent
