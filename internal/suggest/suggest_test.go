package suggest

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"schedule", "partition_by", "connection", "WorkflowName", "TransactionTimestampColumnName"}
	for in, want := range map[string]string{
		"shedule": "schedule", "Schedule": "schedule", "partitionBy": "partition_by", "conection": "connection",
		"workflowName": "WorkflowName", "TransactionTimestampColumn": "", "TransactionTimeStampColumnName": "TransactionTimestampColumnName",
		"color": "",
	} {
		if got := Closest(in, keys); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
