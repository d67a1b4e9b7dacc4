package io.marzban.iplimiter.agent.position;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Which file a position belongs to: device and inode (inodes are reused after a delete) plus a fingerprint of
 * the file's first bytes (a fresh file is short, so the fingerprint records how many bytes it covers and a
 * file matches when its first {@code fingerprintBytes} bytes hash the same).
 */
public record FileIdentity(long device, long inode, int fingerprintBytes, String fingerprint) {

    /** Enough to tell apart two access logs: the first line holds a timestamp to the microsecond. */
    public static final int FINGERPRINT_LIMIT = 1024;

    /** Reads the identity of an open file; {@code device} and {@code inode} come from the path it was opened by. */
    public static FileIdentity of(FileChannel channel, long device, long inode) throws IOException {
        int length = (int) Math.min(channel.size(), FINGERPRINT_LIMIT);
        return new FileIdentity(device, inode, length, hash(channel, length));
    }

    /** True when {@code channel} (opened from a file with this device and inode) is still this file. */
    public boolean matches(FileChannel channel, long device, long inode) throws IOException {
        return this.device == device && this.inode == inode && sameContent(channel);
    }

    /** True when the file begins with the bytes this identity was taken from (a renamed file, or a copy). */
    public boolean sameContent(FileChannel channel) throws IOException {
        return channel.size() >= fingerprintBytes && fingerprint.equals(hash(channel, fingerprintBytes));
    }

    /** True when {@code head}, the first bytes of some file, are the bytes this identity was taken from. */
    public boolean sameContent(byte[] head) {
        return head.length == fingerprintBytes && fingerprint.equals(hash(ByteBuffer.wrap(head)));
    }

    /** The fingerprint is complete once it covers {@link #FINGERPRINT_LIMIT} bytes; until then it can grow. */
    public boolean canGrow() {
        return fingerprintBytes < FINGERPRINT_LIMIT;
    }

    private static String hash(FileChannel channel, int length) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(length);
        while (head.hasRemaining() && channel.read(head, head.position()) > 0) {
            // positional reads leave the channel's own position alone
        }
        head.flip();
        return hash(head);
    }

    private static String hash(ByteBuffer head) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(head);
            return HexFormat.of().formatHex(sha256.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
