// Cli.cs - small things every verb shares: error exits and console logging.
using Microsoft.Extensions.Logging;

namespace LaneShim.Cli;

/// <summary>Shared helpers for verbs.</summary>
internal static class Cli
{
    /// <summary>Prints the message to stderr and returns the exit code for a usage or input error.</summary>
    /// <summary>Where the installed libraries are: $LANESHIM_LIB_DIR, else ../lib beside the CLI.</summary>
    public static string LibraryDirectory =>
        Environment.GetEnvironmentVariable("LANESHIM_LIB_DIR") ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "lib"));

    public static int Fail(string message, int exitCode = 2)
    {
        Console.Error.WriteLine(message);
        return exitCode;
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
