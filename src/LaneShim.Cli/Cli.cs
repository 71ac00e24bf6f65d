// Cli.cs - small things every verb shares: error exits and console logging.
using Microsoft.Extensions.Logging;

namespace LaneShim.Cli;

/// <summary>Shared helpers for verbs.</summary>
internal static class Cli
{
    /// <summary>Where the installed libraries are: $LANESHIM_LIB_DIR, else ../lib beside the CLI, else the packaged directory (<see cref="Site.PackageLayout.FindLibraries"/>).</summary>
    public static string LibraryDirectory => Site.PackageLayout.FindLibraries();

    /// <summary>Prints the message to stderr and returns the exit code for a usage or input error.</summary>
    public static int Fail(string message, int exitCode = 2)
    {
        Console.Error.WriteLine(message);
        return exitCode;
    }

    /// <summary>
    /// Writes a line to stderr, and never throws: under a tight RLIMIT_AS the console's first use can fail to start
    /// what it needs (measured: Win32Exception ENOMEM from ConsolePal), and `laneshim run` must still run its command.
    /// </summary>
    public static void Warn(string message)
    {
        try
        {
            Console.Error.WriteLine(message);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OutOfMemoryException or IOException)
        {
            byte[] line = System.Text.Encoding.UTF8.GetBytes(message + "\n");
            using var stderr = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(2, ownsHandle: false), FileAccess.Write, 1);
            try
            {
                stderr.Write(line);
            }
            catch (IOException)
            {
                // stderr is gone: nothing else to tell
            }
        }
    }

    /// <summary>Console logging to stderr, one line per message.</summary>
    public static ILoggerFactory Loggers(LogLevel minimum) => LoggerFactory.Create(b =>
    {
        b.SetMinimumLevel(minimum);
        b.AddFilter("Microsoft", LogLevel.Warning);
        b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
