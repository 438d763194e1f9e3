package catalog

import (
	"testing"
	"time"
)

// A rest: catalog's parameters are wharf's and leave the URI the client
// is given; everything else is refused (see testdata/rest_catalog.bad.yaml).
func TestParseRESTCatalog(t *testing.T) {
	for _, c := range []struct {
		spec string
		want RESTCatalog
	}{
		{"rest:https://polaris.example:8181/api/catalog", RESTCatalog{URI: "https://polaris.example:8181/api/catalog", Timeout: time.Minute}},
		{"rest:http://127.0.0.1:19120/iceberg/?warehouse=lake&scope=PRINCIPAL_ROLE:ALL&timeout=2m30s",
			RESTCatalog{URI: "http://127.0.0.1:19120/iceberg/", Warehouse: "lake", Scope: "PRINCIPAL_ROLE:ALL", Timeout: 150 * time.Second}},
		{"rest:https://glue.eu-west-1.amazonaws.com/iceberg?warehouse=123456789012&aws_service=glue&aws_region=eu-west-1",
			RESTCatalog{URI: "https://glue.eu-west-1.amazonaws.com/iceberg", Warehouse: "123456789012", AWSService: "glue", AWSRegion: "eu-west-1", Timeout: time.Minute}},
	} {
		got, err := ParseRESTCatalog(c.spec)
		if err != nil || got != c.want {
			t.Errorf("ParseRESTCatalog(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	for _, bad := range []string{"rest:", "rest:https://", "rest:catalog.example/api", "rest:https://h/api?warehouse=a&warehouse=b",
		"rest:https://h/api?warehouse=", "rest:https://h/api#x", "sql:sqlite:x", "rest:https://h/api?timeout=60", "rest:https://h/api?timeout=-1s",
		"rest:https://h/api?timeout=0s"} {
		if _, err := ParseRESTCatalog(bad); err == nil {
			t.Errorf("ParseRESTCatalog(%q): no error", bad)
		}
	}
}
