package diff

// Change verbs, the Change field of a Change.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeRenamed = "renamed"

	// requirements and plugins
	ChangeRaised             = "raised"
	ChangeLowered            = "lowered"
	ChangeAlternativeAdded   = "alternative-added"
	ChangeAlternativeRemoved = "alternative-removed"

	// lists
	ChangeItemsAdded     = "items-added"
	ChangeItemsRemoved   = "items-removed"
	ChangeItemsChanged   = "items-changed"
	ChangeItemsReordered = "items-reordered"

	// macro and rule conditions
	ChangeConditionRefactored = "condition-refactored"
	ChangeConditionNarrowed   = "condition-narrowed"
	ChangeConditionWidened    = "condition-widened"
	ChangeConditionChanged    = "condition-changed"
	ChangeEventTypesAdded     = "event-types-added"
	ChangeEventTypesRemoved   = "event-types-removed"
	ChangeEventTypesChanged   = "event-types-changed"

	// rules
	ChangeOutputFieldsChanged    = "output-fields-changed"
	ChangeOutputTextChanged      = "output-text-changed"
	ChangeDescChanged            = "desc-changed"
	ChangePriorityRaised         = "priority-raised"
	ChangePriorityLowered        = "priority-lowered"
	ChangeEnabled                = "enabled"
	ChangeDisabled               = "disabled"
	ChangeSourceChanged          = "source-changed"
	ChangeTagsAdded              = "tags-added"
	ChangeTagsRemoved            = "tags-removed"
	ChangeSkipUnknownEnabled     = "skip-if-unknown-filter-enabled"
	ChangeSkipUnknownDisabled    = "skip-if-unknown-filter-disabled"
	ChangeWarnEvttypesChanged    = "warn-evttypes-changed"
	ChangeCaptureChanged         = "capture-changed"
	ChangeExceptionAdded         = "exception-added"
	ChangeExceptionRemoved       = "exception-removed"
	ChangeExceptionFieldsChanged = "exception-fields-changed"
	ChangeExceptionCompsChanged  = "exception-comps-changed"
	ChangeExceptionValuesAdded   = "exception-values-added"
	ChangeExceptionValuesRemoved = "exception-values-removed"
	// a rule loaded in another position relative to other rules
	ChangeOrderChanged = "order-changed"
)

// The policy. falcosecurity/rules RELEASE.md ("Versioning a ruleset") is the
// base; where falcops departs from it, or decides what it leaves open, the
// reason is written here and repeated in the change's Reason.
//
// Requirements (upstream practice, falcosecurity/rules#28, #218, #280):
// consumers follow a floating major tag, and `falcoctl artifact install`
// does not check requirements, so rules that need a newer engine or plugin
// must not appear under a major tag that older Falco installations follow.
// Raising required_engine_version, adding a plugin requirement or raising
// its version, and removing a plugin alternative are major; lowering or
// dropping them and adding an alternative are patch.
//
// Names are API: consumers' rules reference lists and macros, and their
// overrides and exceptions append to rules and exceptions by name. Removing
// or renaming a list, macro or rule is major; adding one is minor.
//
// Lists: adding or removing items is patch (RELEASE.md). The effect on
// detection is judged where it happens: a rule whose expanded condition
// becomes narrower through a list (an item added to a list used under
// "not") is reported on its own, as a narrowed rule. Reordering or
// duplicating items is none: lists are sets to every list operator.
//
// Macros: consumers' rules use macros in either polarity, so any change of
// what a macro matches is major (RELEASE.md: "change in any way the events a
// macro matches"), whether it is narrower, wider or undecidable. A macro is
// compared with lists kept by name, so a list's item change is judged at the
// list (patch) and in the rules, not again in every macro that names the
// list, unless it changes the macro's event types (as upstream's checker
// sees them, major).
//
// Rule conditions are compared after macro and list expansion. Narrower
// (fewer events) is major, wider is patch, undecidable is major, an
// equivalent rewrite is none. Event types the rule no longer matches are
// major, new ones patch (when the rest of the condition is wider).
//
// Exceptions are compared on their own, by name, fields, comps and values,
// not as part of the condition. Adding an exception or values narrows the
// rule and removing values widens it, and both are patch: exceptions are
// Falco's declared tuning mechanism for noise, visible and replaceable per
// rule (override: exceptions: replace), and RELEASE.md makes adding or
// removing them patch. Removing an exception, or changing its fields or
// comps, is major: consumers append values to an upstream exception by
// name; after a removal Falco rejects their append ("Rule exception must
// have fields property"), and after a fields or comps change their values
// are silently compared with other fields or operators.
//
// Rule attributes: disabling, lowering the priority, removing tags and
// changing the source are major; enabling, raising the priority and adding
// tags are patch (RELEASE.md). Output fields or text: patch (RELEASE.md).
// The description: patch. It changes no detection, but it is what `falco
// -L` lists and what responders read, and published content cannot change
// without a new version; the smallest bump that publishes it is patch.
// skip-if-unknown-filter true -> false is major (an engine that lacks a
// field the rule uses then fails to load the whole file instead of
// skipping the rule), false -> true patch. warn_evttypes and capture
// settings change no detection and are patch.
//
// Rule order: Falco fires only the first loaded rule that matches an event
// (rule_matching: first, the default, and the only behaviour before Falco
// 0.36), so moving a rule past an enabled rule of the same source that can
// match the same event types is major; past rules that cannot, none. New
// rules are minor as RELEASE.md says, even when loaded before existing rules
// that match the same events.
//
// Placeholders: a check that always holds (evt.num >= 0, "not never_true",
// "not f in (empty_list)") is dropped, so adding "and not user_known_x" is no
// change. A check that never holds (never_true, "f in (empty_list)") is kept
// as it is, named after its macro: such gates are meant to be overridden,
// and the rest of the condition behind them is still compared.
//
// Formatting, comments, YAML style and item order in the file change
// nothing Falco sees and produce no change at all; a rewritten condition
// or reordered list that means the same is reported with bump none.
