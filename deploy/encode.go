package deploy

import (
	"bytes"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// YAML writes the objects as one YAML stream, a document each, as helm
// template prints them.
func YAML(objs []runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	return buf.Bytes(), nil
}

// List writes the objects as one v1 List in indented JSON.
func List(objs []runtime.Object) ([]byte, error) {
	list := struct {
		metav1.TypeMeta `json:",inline"`
		Items           []runtime.Object `json:"items"`
	}{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}, Items: objs}
	if list.Items == nil {
		list.Items = []runtime.Object{}
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
