// StaticBinaryTests.cs - `laneshim run` says, in one stderr line, when LD_PRELOAD cannot reach a program (static, Go), and still runs it unchanged.
using LaneShim.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LaneShim.Cli.Tests.Site;

[TestClass]
public sealed class StaticBinaryTests
{
    private const string StaticLine = "is statically linked: LD_PRELOAD cannot reach it";
    private const string GoLine = "is a Go program: Go's net package makes raw system calls";
    private static string _dir = "";

    [ClassInitialize]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static void Build(TestContext _)
    {
        _dir = Directory.CreateTempSubdirectory("laneshim-static-").FullName;
        string source = Path.Combine(_dir, "hello.c");
        File.WriteAllText(source, "#include <stdio.h>\nint main(int argc, char **argv) { printf(\"hello %d\\n\", argc); return 7; }\n");
        ProcessRunner.Check("/usr/bin/gcc", "-static", "-O2", "-o", Path.Combine(_dir, "static_hello"), source);
        ProcessRunner.Check("/usr/bin/gcc", "-O2", "-o", Path.Combine(_dir, "dynamic_hello"), source);
        // Go-like programs: a dynamic executable carrying what the Go linker leaves in every binary, one marker each.
        File.WriteAllBytes(Path.Combine(_dir, "buildinfo"), "\xff Go buildinf:"u8.ToArray());
        File.WriteAllBytes(Path.Combine(_dir, "buildid"), [4, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, (byte)'G', (byte)'o', 0, 0, (byte)'a', (byte)'b', (byte)'c', (byte)'d', (byte)'e', (byte)'f', (byte)'g', (byte)'h']);
        ProcessRunner.Check("/usr/bin/objcopy", "--add-section", $".go.buildinfo={Path.Combine(_dir, "buildinfo")}", Path.Combine(_dir, "dynamic_hello"), Path.Combine(_dir, "go_buildinfo"));
        ProcessRunner.Check("/usr/bin/objcopy", "--add-section", $".note.go.buildid={Path.Combine(_dir, "buildid")}", "--set-section-flags", ".note.go.buildid=alloc,readonly",
            Path.Combine(_dir, "dynamic_hello"), Path.Combine(_dir, "go_buildid"));
        // A Go build-id note under another section name: found only through the PT_NOTE segment, which survives stripping.
        string noted = Path.Combine(_dir, "noted.c");
        File.WriteAllText(noted, "__asm__(\".section .note.custom,\\\"a\\\",@note\\n.balign 4\\n.long 4\\n.long 8\\n.long 4\\n.ascii \\\"Go\\\\0\\\\0\\\"\\n.ascii \\\"abcdefgh\\\"\\n.text\");\n" + File.ReadAllText(source));
        ProcessRunner.Check("/usr/bin/gcc", "-O2", "-o", Path.Combine(_dir, "go_note"), noted);
        File.WriteAllText(Path.Combine(_dir, "script_env"), $"#!/usr/bin/env -S {Path.Combine(_dir, "static_hello")} --flag\n");
        File.WriteAllText(Path.Combine(_dir, "script_direct"), $"#!{Path.Combine(_dir, "static_hello")}\n");
        File.WriteAllText(Path.Combine(_dir, "script_sh"), "#!/bin/sh\necho from sh\nexit 7\n");
        foreach (string f in new[] { "script_env", "script_direct", "script_sh" })
        {
            File.SetUnixFileMode(Path.Combine(_dir, f), (UnixFileMode)0b111_101_101);
        }
    }

    [ClassCleanup]
    public static void Cleanup() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    [DataRow("static_hello", StaticLine, "hello 1\n")]
    [DataRow("go_buildinfo", GoLine, "hello 1\n")]
    [DataRow("go_buildid", GoLine, "hello 1\n")]
    [DataRow("go_note", GoLine, "hello 1\n")]
    [DataRow("script_env", StaticLine, "hello 3\n")]
    [DataRow("script_direct", StaticLine, "hello 2\n")]
    [DataRow("dynamic_hello", null, "hello 1\n")]
    [DataRow("script_sh", null, "from sh\n")]
    public void Run_ProgramTheShimCannotReach_SaysSoOnceAndRunsItUnchanged(string program, string? expectedLine, string expectedStdout)
    {
        string path = Path.Combine(_dir, program);
        ProcessResult plain = ProcessRunner.Run(path, []);
        ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["run", "--", path], timeout: TimeSpan.FromSeconds(60));

        Assert.AreEqual(expectedStdout, plain.Stdout, plain.Describe());
        Assert.AreEqual(7, r.ExitCode, r.Describe());
        Assert.AreEqual(plain.Stdout, r.Stdout, r.Describe());
        string[] notes = r.Stderr.Split('\n').Where(l => l.Contains("LD_PRELOAD cannot reach", StringComparison.Ordinal) || l.Contains("Go program", StringComparison.Ordinal)).ToArray();
        if (expectedLine is null)
        {
            Assert.IsEmpty(notes, r.Describe());
            return;
        }
        Assert.HasCount(1, notes, r.Describe());
        Assert.Contains(expectedLine, notes[0], r.Describe());
        Assert.Contains(path, notes[0], r.Describe());
        Assert.Contains("running it unchanged", notes[0], r.Describe());
        Assert.Contains("laneshim run --bpf", notes[0], r.Describe());
    }

    [TestMethod]
    public void Run_StaticProgramFoundInPath_NamesTheResolvedFile()
    {
        var env = new Dictionary<string, string?> { ["PATH"] = $"{_dir}:/usr/bin:/bin" };
        ProcessResult r = ProcessRunner.Run(RepoPaths.Cli, ["run", "--", "static_hello", "a"], env, TimeSpan.FromSeconds(60));

        Assert.AreEqual(7, r.ExitCode, r.Describe());
        Assert.AreEqual("hello 2\n", r.Stdout, r.Describe());
        Assert.Contains($"laneshim: {Path.Combine(_dir, "static_hello")} {StaticLine}", r.Stderr, r.Describe());
    }
}
