package config

import "testing"

// TestConsoleAddr: console_addr is read from the file and the
// environment; without it a server has no console listener (empty stays
// empty after the defaults).
func TestConsoleAddr(t *testing.T) {
	got, err := Load("", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.WithDefaults().ConsoleAddr != "" {
		t.Errorf("default console_addr = %q, want none", got.WithDefaults().ConsoleAddr)
	}
	p := writeFile(t, "kinko.json", `{"console_addr": "10.0.0.5:8445"}`)
	if got, err = Load(p, envOf(nil)); err != nil || got.ConsoleAddr != "10.0.0.5:8445" {
		t.Errorf("from the file: %q, %v", got.ConsoleAddr, err)
	}
	if got, err = Load(p, envOf(map[string]string{"KINKO_CONSOLE_ADDR": "127.0.0.1:0"})); err != nil || got.ConsoleAddr != "127.0.0.1:0" {
		t.Errorf("from the environment: %q, %v", got.ConsoleAddr, err)
	}
}
