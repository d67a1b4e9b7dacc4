package io.marzban.iplimiter.agent.parse;

/**
 * The routing part of an access line, {@code [<inbound> <separator> <outbound>]}: {@code >>} for the default route,
 * {@code ->} for a routing rule, {@code ==>} for a forced outbound; V2Ray and Xray 1.5.0–1.5.4 write only
 * {@code [<outbound>]}. Tags may contain spaces. A tag that is absent or empty is null.
 *
 * @param text the text between the brackets
 */
record Detour(String text, String inbound, String outbound) {

    static final Detour NONE = new Detour("", null, null);

    private static final String[] SEPARATORS = {" >> ", " -> ", " ==> "};

    static Detour of(String text) {
        int separator = -1;
        int separatorLength = 0;
        for (String candidate : SEPARATORS) {
            int at = text.indexOf(candidate);
            if (at >= 0 && (separator < 0 || at < separator)) {
                separator = at;
                separatorLength = candidate.length();
            }
        }
        if (separator < 0) {
            return new Detour(text, null, tag(text));
        }
        return new Detour(text, tag(text.substring(0, separator)), tag(text.substring(separator + separatorLength)));
    }

    private static String tag(String text) {
        String tag = text.strip();
        return tag.isEmpty() ? null : tag;
    }
}
