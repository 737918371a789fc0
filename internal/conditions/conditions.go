package conditions

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Object is a kind with status conditions.
type Object interface {
	GetGeneration() int64
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// Set sets condition typ. The transition time changes only when the status
// does, so an unchanged condition writes nothing new.
func Set(o Object, typ string, status metav1.ConditionStatus, reason, message string) {
	cs := o.GetConditions()
	meta.SetStatusCondition(&cs, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: o.GetGeneration(),
	})
	o.SetConditions(cs)
}

// True sets condition typ to True.
func True(o Object, typ, reason, message string) { Set(o, typ, metav1.ConditionTrue, reason, message) }

// False sets condition typ to False.
func False(o Object, typ, reason, message string) {
	Set(o, typ, metav1.ConditionFalse, reason, message)
}

// Unknown sets condition typ to Unknown unless it is already set: owned
// conditions are present from the first visit.
func Unknown(o Object, typ, reason, message string) {
	if Get(o, typ) == nil {
		Set(o, typ, metav1.ConditionUnknown, reason, message)
	}
}

// Delete removes condition typ.
func Delete(o Object, typ string) {
	cs := o.GetConditions()
	meta.RemoveStatusCondition(&cs, typ)
	o.SetConditions(cs)
}

// Get returns condition typ, nil if absent.
func Get(o Object, typ string) *metav1.Condition {
	return meta.FindStatusCondition(o.GetConditions(), typ)
}

// IsTrue reports whether condition typ is True.
func IsTrue(o Object, typ string) bool {
	return meta.IsStatusConditionTrue(o.GetConditions(), typ)
}
