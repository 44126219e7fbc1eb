// Package providertest is the conformance suite every provider passes. A
// provider's tests call Run with a constructor and two hooks that look at
// the instance without asking the provider (which processes of the agent
// run, what a file in the agent's data dir holds), and Run checks the
// contract written on providers.Provider:
//
//   - StartInstance starts the agent with cfg.Files in its data dir, mode
//     0600, before it starts, and is idempotent on the name (a second call,
//     sequential or concurrent, returns the same instance and starts no
//     second agent);
//   - Instances lists exactly the started, not yet stopped, instances;
//   - StopInstance leaves no agent process running when it returns, deletes
//     the instance's data, and returns ErrNotFound for an unknown id (a
//     second stop, "", "..", "a/b", ...) without touching other instances;
//   - invalid names, file names and constraints are refused with an error
//     wrapping ErrInvalid and nothing is created;
//   - a started instance has a hostname and bare IP addresses, which
//     Instances lists too;
//   - constraints are enforced and reported in Instance.Hardware exactly
//     when the provider's test says it enforces them (Options.Hardware);
//   - StartInstance with only the name brings a killed agent back, with
//     the files it had;
//   - StartInstance of distinct names runs concurrently;
//   - a call with a cancelled ctx returns an error wrapping
//     context.Canceled and changes nothing.
//
// The agent a provider under test starts must be the fake agent built by
// BuildAgent (the source is in fakeagent/): it records the files it saw
// and its pid in its data dir at start, then waits for SIGTERM. Putting a
// file named IgnoreSIGTERM in InstanceConfig.Files makes it ignore SIGTERM,
// so a provider's own tests can check that it escalates to SIGKILL.
//
// Only tests import this package. It never starts an agent itself and never
// touches anything but what the provider under test and its hooks reach.
package providertest
