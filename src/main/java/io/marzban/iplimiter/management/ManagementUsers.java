package io.marzban.iplimiter.management;

import com.sun.net.httpserver.BasicAuthenticator;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * HTTP basic authentication from MANAGEMENT_AUTH_FILE: {@code user.<name> = <password>} lines, the format of the
 * Vert.x property file that Camel Main's management server read (anything after a comma in the value named roles
 * there, and is ignored, as are the {@code role.} lines). Wrong or missing credentials get 401 on every path.
 */
final class ManagementUsers extends BasicAuthenticator {

    private static final String USER = "user.";

    private final Map<String, byte[]> passwords;

    private ManagementUsers(Map<String, byte[]> passwords) {
        super("marzban-ip-limiter", StandardCharsets.UTF_8);
        this.passwords = passwords;
    }

    static ManagementUsers read(Path file) throws IOException {
        Properties lines = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            lines.load(reader);
        }
        Map<String, byte[]> passwords = new HashMap<>();
        for (String key : lines.stringPropertyNames()) {
            if (key.startsWith(USER)) {
                String value = lines.getProperty(key);
                int comma = value.indexOf(',');
                String password = comma < 0 ? value : value.substring(0, comma);
                passwords.put(key.substring(USER.length()), password.getBytes(StandardCharsets.UTF_8));
            }
        }
        return new ManagementUsers(passwords);
    }

    @Override
    public boolean checkCredentials(String user, String password) {
        byte[] expected = passwords.get(user);
        // in constant time, so that the answer's timing does not tell how much of a password was right
        return expected != null && MessageDigest.isEqual(expected, password.getBytes(StandardCharsets.UTF_8));
    }
}
