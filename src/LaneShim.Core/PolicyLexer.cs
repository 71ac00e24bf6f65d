// PolicyLexer.cs - splits one policy line into words, honouring "quotes" and # comments.
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace LaneShim.Core;

/// <summary>
/// Splits a line at whitespace. A '#' at the start of a word starts a comment (so paths like /opt/c#/bin work);
/// double quotes group text with spaces; inside quotes \" and \\ are escapes.
/// </summary>
internal static class PolicyLexer
{
    public static bool TryTokenize(string line, List<PolicyToken> tokens, [NotNullWhen(false)] out string? error)
    {
        tokens.Clear();
        int i = 0;
        while (true)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i]))
            {
                i++;
            }

            if (i >= line.Length || line[i] == '#')
            {
                break;
            }

            var word = new StringBuilder();
            bool quoted = false;
            while (i < line.Length && !char.IsWhiteSpace(line[i]))
            {
                char c = line[i++];
                if (c != '"')
                {
                    word.Append(c);
                    continue;
                }

                quoted = true;
                bool closed = false;
                while (i < line.Length)
                {
                    char q = line[i++];
                    if (q == '\\' && i < line.Length && line[i] is '"' or '\\')
                    {
                        word.Append(line[i++]);
                    }
                    else if (q == '"')
                    {
                        closed = true;
                        break;
                    }
                    else
                    {
                        word.Append(q);
                    }
                }

                if (!closed)
                {
                    error = "unterminated quote";
                    return false;
                }
            }

            tokens.Add(new PolicyToken(word.ToString(), quoted));
        }

        error = null;
        return true;
    }
}
