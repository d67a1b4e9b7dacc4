package io.marzban.iplimiter.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * How the agent talks TLS to a {@code rediss://} server: whom it trusts (the JVM's CAs, or the ones in
 * {@code CENTRAL_REDIS_CA_FILE}), its own certificate for mutual TLS, and whether the certificate must also
 * name the host. Loaded once at start, so a bad file stops the agent before anything runs.
 */
public record RedisTls(SSLSocketFactory socketFactory, boolean verifyHostName) {

    static RedisTls load(Path caFile, Path certFile, Path keyFile, boolean verifyHostName) {
        if ((certFile == null) != (keyFile == null)) {
            throw new SettingsException("CENTRAL_REDIS_CERT_FILE and CENTRAL_REDIS_KEY_FILE go together; set both "
                    + "for mutual TLS, or neither");
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers(certFile, keyFile), trustManagers(caFile), null);
            return new RedisTls(context.getSocketFactory(), verifyHostName);
        } catch (GeneralSecurityException e) {
            throw new SettingsException("the TLS settings cannot be used: " + e.getMessage());
        }
    }

    private static TrustManager[] trustManagers(Path caFile) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (caFile == null) {
            factory.init((KeyStore) null); // the JVM's own trusted CAs
        } else {
            KeyStore trusted = emptyKeyStore();
            int i = 0;
            for (Certificate ca : certificates("CENTRAL_REDIS_CA_FILE", caFile)) {
                trusted.setCertificateEntry("ca-" + i++, ca);
            }
            factory.init(trusted);
        }
        return factory.getTrustManagers();
    }

    private static KeyManager[] keyManagers(Path certFile, Path keyFile) throws GeneralSecurityException {
        if (certFile == null) {
            return null;
        }
        Collection<? extends Certificate> chain = certificates("CENTRAL_REDIS_CERT_FILE", certFile);
        PrivateKey key = privateKey(keyFile);
        Certificate own = chain.iterator().next();
        if (!belongTogether(key, own)) {
            throw new SettingsException("CENTRAL_REDIS_KEY_FILE='" + keyFile + "' is not the key of the certificate in "
                    + "CENTRAL_REDIS_CERT_FILE='" + certFile + "'");
        }
        KeyStore store = emptyKeyStore();
        char[] noPassword = new char[0];
        store.setKeyEntry("client", key, noPassword, chain.toArray(new Certificate[0]));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, noPassword);
        return factory.getKeyManagers();
    }

    /** Signs a few bytes with the key and checks them with the certificate: a mismatch fails here, not at the server. */
    private static boolean belongTogether(PrivateKey key, Certificate certificate) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519 names its own signature
        };
        byte[] probe = "marzban-ip-limiter-node".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(probe);
        try {
            return verifier.verify(signature);
        } catch (SignatureException e) {
            return false;
        }
    }

    private static Collection<? extends Certificate> certificates(String variable, Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new SettingsException(variable + "='" + file + "' holds no certificate; expected PEM "
                        + "(-----BEGIN CERTIFICATE-----)");
            }
            return certificates;
        } catch (IOException e) {
            throw new SettingsException(variable + "='" + file + "' cannot be read: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new SettingsException(variable + "='" + file + "' is not a PEM certificate file ("
                    + e.getMessage() + ")");
        }
    }

    /** An unencrypted PKCS#8 PEM key (RSA, EC or Ed25519), as openssl 3 writes it. */
    private static PrivateKey privateKey(Path file) {
        String variable = "CENTRAL_REDIS_KEY_FILE";
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new SettingsException(variable + "='" + file + "' cannot be read: " + e.getMessage());
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        int start = pem.indexOf(begin);
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) {
            throw new SettingsException(variable + "='" + file + "' is not an unencrypted PKCS#8 PEM key "
                    + "(-----BEGIN PRIVATE KEY-----); convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out "
                    + "KEY.pk8");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(start + begin.length(), end));
        } catch (IllegalArgumentException e) {
            throw new SettingsException(variable + "='" + file + "' is damaged: its base64 body does not decode ("
                    + e.getMessage() + ")");
        }
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new SettingsException(variable + "='" + file + "' holds a key that is not RSA, EC or Ed25519");
    }

    private static KeyStore emptyKeyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException("an empty key store needs no input", e);
        }
        return store;
    }
}
