using System.Text;

namespace Platform.Channels;

/// <summary>
/// Cleans text that arrives from outside before anything looks at it: invalid code points (lone surrogates, the
/// non-characters U+FFFE, U+FFFF and U+FDD0–U+FDEF) and control characters other than line feed and tab are removed
/// (a carriage return becomes a line feed unless one follows), and the result is NFKC-normalised, so full-width and
/// compatibility forms compare like their plain letters.
/// </summary>
public static class InboundText
{
    /// <summary>The cleaned, NFKC-normalised text; the same instance when nothing had to change.</summary>
    public static string Normalize(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        StringBuilder? sb = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var keep = true;
            var width = 1;
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    width = 2;
                    keep = !IsNonCharacter(char.ConvertToUtf32(c, text[i + 1]));
                }
                else keep = false;
            }
            else if (char.IsLowSurrogate(c)) keep = false;
            else if (c == '\r')
            {
                // CR LF → LF; a lone CR → LF.
                sb ??= new StringBuilder(text.Length).Append(text, 0, i);
                if (i + 1 >= text.Length || text[i + 1] != '\n') sb.Append('\n');
                continue;
            }
            else if (c is not ('\n' or '\t') && (char.IsControl(c) || IsNonCharacter(c))) keep = false;

            if (!keep)
            {
                sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            }
            else sb?.Append(text, i, width);
            i += width - 1;
        }
        var cleaned = sb?.ToString() ?? text;
        return cleaned.IsNormalized(NormalizationForm.FormKC) ? cleaned : cleaned.Normalize(NormalizationForm.FormKC);
    }

    private static bool IsNonCharacter(int codePoint) =>
        codePoint is >= 0xFDD0 and <= 0xFDEF || (codePoint & 0xFFFE) == 0xFFFE;
}
