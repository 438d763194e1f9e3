package catalog

import "testing"

func TestParseTableRef(t *testing.T) {
	for in, want := range map[string]TableRef{
		`regions`:                      {Name: "regions"},
		`public.regions`:               {Schema: "public", Name: "regions"},
		`schema."T"`:                   {Schema: "schema", Name: "T"},
		`"x.y"`:                        {Name: "x.y"},
		`"my ""odd"" schema"."t.able"`: {Schema: `my "odd" schema`, Name: "t.able"},
		`" padded "."a b"`:             {Schema: " padded ", Name: "a b"},
		`"a` + "`" + `b".c`:            {Schema: "a`b", Name: "c"},
		`public.Mixed Case`:            {Schema: "public", Name: "Mixed Case"},
	} {
		got, err := ParseTableRef(in)
		if err != nil || got != want {
			t.Errorf("ParseTableRef(%s) = %#v, %v; want %#v", in, got, err, want)
			continue
		}
		back, err := ParseTableRef(got.String())
		if err != nil || back != want {
			t.Errorf("ParseTableRef(%s.String() = %s) = %#v, %v", in, got.String(), back, err)
		}
	}
	for ref, want := range map[TableRef]string{
		{Schema: "public", Name: "regions"}:         `public.regions`,
		{Name: "x.y"}:                               `"x.y"`,
		{Schema: `my "odd" schema`, Name: "t.able"}: `"my ""odd"" schema"."t.able"`,
		{Schema: "s", Name: "order_*"}:              `s."order_*"`,
	} {
		if got := ref.String(); got != want {
			t.Errorf("%#v.String() = %s, want %s", ref, got, want)
		}
	}
	if !IsTablePattern("public.*") || IsTablePattern(`public."*"`) || !IsTablePattern(`"my schema".t_*`) {
		t.Error("IsTablePattern: quoted names are literal, unquoted globs are patterns")
	}
}
