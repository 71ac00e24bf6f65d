// PrincipalPattern.cs - a policy's principal= item: a certificate identity such as CN=dtn1.example.org, with an optional leading '*' label.
namespace LaneShim.Core;

/// <summary>
/// Matches the identities of an mTLS caller: <c>CN=dtn1.example.org</c> or <c>DNS=dtn1.example.org</c> exactly
/// (case-insensitive), or <c>CN=*.example.org</c> for any name ending in <c>.example.org</c>.
/// </summary>
public sealed record PrincipalPattern
{
    private PrincipalPattern(string kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    /// <summary>CN or DNS.</summary>
    public string Kind { get; }

    /// <summary>The name, possibly starting with "*.".</summary>
    public string Name { get; }

    /// <summary>Parses <c>CN=name</c> or <c>DNS=name</c>.</summary>
    public static bool TryParse(string text, out PrincipalPattern? pattern, out string error)
    {
        pattern = null;
        int eq = text.IndexOf('=');
        string kind = eq > 0 ? text[..eq].ToUpperInvariant() : string.Empty;
        string name = eq > 0 ? text[(eq + 1)..] : string.Empty;
        if (kind is not ("CN" or "DNS") || name.Length == 0)
        {
            error = $"bad principal '{text}' (expected CN=name or DNS=name from the client certificate, e.g. principal=CN=dtn1.example.org)";
            return false;
        }

        if (name.IndexOf('*', 1) >= 0 || (name[0] == '*' && !name.StartsWith("*.", StringComparison.Ordinal)))
        {
            error = $"bad principal '{text}': '*' may only stand for the first label, as in CN=*.example.org";
            return false;
        }

        pattern = new PrincipalPattern(kind, name);
        error = string.Empty;
        return true;
    }

    /// <summary>True when <paramref name="identity"/> (e.g. "CN=dtn1.example.org") matches.</summary>
    public bool IsMatch(string identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        string prefix = Kind + "=";
        if (!identity.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string value = identity[prefix.Length..];
        return Name.StartsWith("*.", StringComparison.Ordinal)
            ? value.Length > Name.Length - 1 && value.EndsWith(Name[1..], StringComparison.OrdinalIgnoreCase) && !value[..^(Name.Length - 1)].Contains('.')
            : string.Equals(value, Name, StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind}={Name}";
}
