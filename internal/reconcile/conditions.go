package reconcile

import (
	"fmt"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Object is a kind with status conditions.
type Object interface {
	GetGeneration() int64
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// MaxMessage bounds a condition, status or event message. Registry errors
// can carry whole answer bodies; the API refuses condition messages over
// 32 KiB, and a refused status write would hide every other change.
const MaxMessage = 4 << 10

// Cut shortens msg to at most MaxMessage bytes, on a rune boundary, and
// says how much it left out.
func Cut(msg string) string {
	if len(msg) <= MaxMessage {
		return msg
	}
	suffix := fmt.Sprintf(" ... (%d bytes cut)", len(msg)-MaxMessage)
	end := MaxMessage - len(suffix)
	for end > 0 && !utf8.RuneStart(msg[end]) {
		end--
	}
	return msg[:end] + fmt.Sprintf(" ... (%d bytes cut)", len(msg)-end)
}

// SetCondition sets condition typ (its message Cut). The transition time changes only when
// the status does, so an unchanged condition writes nothing new.
func SetCondition(o Object, typ string, status metav1.ConditionStatus, reason, message string) {
	cs := o.GetConditions()
	meta.SetStatusCondition(&cs, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            Cut(message),
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
