// ExecutableInspector.cs - finds the program `laneshim run` will start (PATH, #! interpreters) and says when the shim cannot reach it.
using System.Text;

namespace LaneShim.Cli.Site;

/// <summary>Resolves a command to the ELF file the kernel will really run and explains, in one line, when LD_PRELOAD cannot reach it.</summary>
internal static class ExecutableInspector
{
    // Linux itself follows at most 4 levels of #! interpreters (BINPRM_MAX_RECURSION).
    private const int MaxInterpreterDepth = 4;

    /// <summary>One stderr line for <paramref name="command"/> when its connections cannot get lanes; null when they can (or when we cannot tell).</summary>
    public static string? Warning(string command, string? path)
    {
        string? file = Resolve(command, path);
        var chain = new List<string>();
        for (int depth = 0; file is not null && depth <= MaxInterpreterDepth; depth++)
        {
            chain.Add(file);
            string? interpreter = Interpreter(file, path);
            if (interpreter is null)
            {
                break;
            }
            file = interpreter;
        }
        if (file is null || chain.Count == 0)
        {
            return null;
        }
        string what = chain.Count == 1 ? file : $"{chain[0]} runs {file}, which";
        return ElfReader.Classify(file) switch
        {
            ExecutableKind.Static => $"laneshim: {what} is statically linked: LD_PRELOAD cannot reach it, so its connections get no lane; running it unchanged (`laneshim run --bpf` gives it lanes in the kernel)",
            ExecutableKind.Go => $"laneshim: {what} is a Go program: Go's net package makes raw system calls, not libc calls, so its connections get no lane (even when dynamically linked); running it unchanged (`laneshim run --bpf` gives it lanes in the kernel)",
            _ => null,
        };
    }

    /// <summary>The file execvp would run: a name with a slash as is, otherwise the first executable match in PATH.</summary>
    public static string? Resolve(string command, string? path)
    {
        if (command.Length == 0)
        {
            return null;
        }
        if (command.Contains('/'))
        {
            return File.Exists(command) ? Path.GetFullPath(command) : null;
        }
        foreach (string dir in (path ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            string candidate = Path.Combine(dir.Length == 0 ? "." : dir, command);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return Path.GetFullPath(candidate);
            }
        }
        return null;
    }

    /// <summary>For a #! script, the interpreter the kernel starts (through `env NAME`, the program env would find); else null.</summary>
    private static string? Interpreter(string file, string? path)
    {
        string line;
        try
        {
            using FileStream f = File.OpenRead(file);
            byte[] buffer = new byte[256]; // Linux reads at most 256 bytes of a #! line (BINPRM_BUF_SIZE)
            int n = f.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (n < 3 || buffer[0] != (byte)'#' || buffer[1] != (byte)'!')
            {
                return null;
            }
            int end = Array.IndexOf(buffer, (byte)'\n', 2, n - 2);
            line = Encoding.UTF8.GetString(buffer, 2, (end < 0 ? n : end) - 2).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        string[] words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return null;
        }
        if (Path.GetFileName(words[0]) == "env")
        {
            // `#!/usr/bin/env -S prog args` and `#!/usr/bin/env prog`: env execs the first word that is not an option.
            string? program = words.Skip(1).FirstOrDefault(w => !w.StartsWith('-') && !w.Contains('='));
            return program is null ? null : Resolve(program, path);
        }
        return File.Exists(words[0]) ? words[0] : null;
    }
}
