// ProgramPattern.cs - matches a program's executable path by exact path, path glob or basename glob.
namespace LaneShim.Core;

/// <summary>
/// A program matcher. A pattern with a '/' matches the full executable path; one without matches the basename.
/// '*' matches any run of characters (including '/'), '?' one character; everything else is literal and case-sensitive.
/// </summary>
public sealed class ProgramPattern
{
    /// <summary>Creates a matcher for <paramref name="pattern"/>.</summary>
    public ProgramPattern(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        Pattern = pattern;
        MatchesFullPath = pattern.Contains('/');
    }

    /// <summary>The pattern as written.</summary>
    public string Pattern { get; }

    /// <summary>True when the pattern is matched against the full path, false for the basename.</summary>
    public bool MatchesFullPath { get; }

    /// <summary>True when <paramref name="programPath"/> matches.</summary>
    public bool IsMatch(string programPath)
    {
        ArgumentNullException.ThrowIfNull(programPath);
        string subject = MatchesFullPath ? programPath : programPath[(programPath.LastIndexOf('/') + 1)..];
        return Glob(Pattern, subject);
    }

    /// <inheritdoc/>
    public override string ToString() => Pattern;

    // Iterative glob with one backtrack point per '*': linear in practice, never exponential.
    private static bool Glob(string pattern, string text)
    {
        int p = 0;
        int t = 0;
        int starP = -1;
        int starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
