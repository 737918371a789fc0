package reconcile

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

// SetCondition sets condition typ. The transition time changes only when
// the status does, so an unchanged condition writes nothing new.
func SetCondition(o Object, typ string, status metav1.ConditionStatus, reason, message string) {
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

// MarkTrue sets condition typ to True.
func MarkTrue(o Object, typ, reason, message string) {
	SetCondition(o, typ, metav1.ConditionTrue, reason, message)
}

// MarkFalse sets condition typ to False.
func MarkFalse(o Object, typ, reason, message string) {
	SetCondition(o, typ, metav1.ConditionFalse, reason, message)
}

// InitUnknown sets condition typ to Unknown unless it is already set: owned
// conditions are present from the first visit.
func InitUnknown(o Object, typ, reason, message string) {
	if GetCondition(o, typ) == nil {
		SetCondition(o, typ, metav1.ConditionUnknown, reason, message)
	}
}

// DeleteCondition removes condition typ.
func DeleteCondition(o Object, typ string) {
	cs := o.GetConditions()
	meta.RemoveStatusCondition(&cs, typ)
	o.SetConditions(cs)
}

// GetCondition returns condition typ, nil if absent.
func GetCondition(o Object, typ string) *metav1.Condition {
	return meta.FindStatusCondition(o.GetConditions(), typ)
}

// IsTrue reports whether condition typ is True.
func IsTrue(o Object, typ string) bool {
	return meta.IsStatusConditionTrue(o.GetConditions(), typ)
}
