package v1alpha1

// kstatus conditions every falcops kind carries.
const (
	// ReadyCondition summarises the object: True when the last reconcile
	// succeeded and nothing is in progress.
	ReadyCondition = "Ready"
	// ReconcilingCondition is True only while work is in progress.
	ReconcilingCondition = "Reconciling"
	// StalledCondition is True only when no progress is possible without a
	// change of the spec or of the data it refers to.
	StalledCondition = "Stalled"
)

// RuleSource domain conditions.
const (
	// ResolvedCondition: the followed tag resolved to a digest.
	ResolvedCondition = "Resolved"
	// VerifiedCondition: the digest's signature verifies with the key and
	// claims that digest.
	VerifiedCondition = "Verified"
)

// ShootRollout domain conditions (Cluster API names).
const (
	// UpToDateCondition: the shoot runs its target Falco version and pins.
	UpToDateCondition = "UpToDate"
	// RollingOutCondition: the shoot has a change that is waiting or being
	// applied.
	RollingOutCondition = "RollingOut"
)

// RolloutPolicy domain conditions.
const (
	// HaltedCondition: the rollout stopped (spec.paused or the halt rule).
	HaltedCondition = "Halted"
)

// Reasons. Event reasons equal condition reasons.
const (
	// Generic.
	ReasonSucceeded   = "Succeeded"
	ReasonProgressing = "Progressing"
	ReasonFailed      = "Failed"

	// RuleSource.
	ReasonDigestResolved      = "DigestResolved"
	ReasonDigestUnchanged     = "DigestUnchanged"
	ReasonTagNotFound         = "TagNotFound"
	ReasonRegistryUnavailable = "RegistryUnavailable"
	ReasonSignatureInvalid    = "SignatureInvalid"
	ReasonSignatureVerified   = "SignatureVerified"
	ReasonKeyMissing          = "KeyMissing"
	ReasonCredentialsInvalid  = "CredentialsInvalid"
	ReasonInvalidArtifact     = "InvalidArtifact"
	ReasonInvalidSpec         = "InvalidSpec"
	ReasonTagBelowFloor       = "TagBelowFloor"

	// ShootRollout.
	ReasonUpToDate                    = "UpToDate"
	ReasonWaitingForMaintenanceWindow = "WaitingForMaintenanceWindow"
	ReasonWaitingForWave              = "WaitingForWave"
	ReasonRolloutHalted               = "RolloutHalted"
	ReasonAutoUpdate                  = "AutoUpdate"
	ReasonRulesetUpdate               = "RulesetUpdate"
	ReasonRulesetRollback             = "RulesetRollback"
	ReasonFirstPin                    = "FirstPin"
	ReasonMaintainOperation           = "MaintainOperation"
	ReasonForcedExpired               = "ForcedExpired"
	ReasonForcedRemoved               = "ForcedRemoved"
	ReasonDowngradeBlocked            = "DowngradeBlocked"
	ReasonNoCompatibleRuleset         = "NoCompatibleRuleset"
	ReasonNoProfile                   = "NoProfile"
	ReasonInvalidProviderConfig       = "InvalidProviderConfig"
	ReasonApplied                     = "Applied"
	ReasonPatchFailed                 = "PatchFailed"

	// RolloutPolicy.
	ReasonWaveInProgress = "WaveInProgress"
	ReasonPausing        = "Pausing"
	ReasonPaused         = "Paused"
	ReasonTooManyFailed  = "TooManyFailed"
	ReasonComplete       = "Complete"
)
