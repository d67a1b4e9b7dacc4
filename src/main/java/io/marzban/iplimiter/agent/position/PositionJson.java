package io.marzban.iplimiter.agent.position;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * The stored form of a position: {@code {"version":1,"path":...,"file":{"device":..,"inode":..,
 * "fingerprintBytes":..,"fingerprint":..},"offset":..}}. Written with Jackson's streaming core only: its data
 * binding would load some 370 classes on the node for this. The part before the offset changes only with the
 * file, so it is written once per file and the offset appended.
 */
final class PositionJson {

    /** The format written and the only one read: a position of another version is not this format. */
    static final int VERSION = 1;

    private static final JsonFactory JSON = new JsonFactory();

    /** The JSON before the offset, for the file positions are in now. */
    private volatile EncodedFile encodedFile;

    private record EncodedFile(String path, FileIdentity file, String jsonBeforeOffset) {
    }

    /** The position's JSON; the part before the offset is written once per file. */
    String encode(FilePosition position) {
        EncodedFile encoded = encodedFile;
        if (encoded == null || encoded.path() != position.path() || encoded.file() != position.file()) {
            encoded = new EncodedFile(position.path(), position.file(), jsonBeforeOffset(position));
            encodedFile = encoded;
        }
        return encoded.jsonBeforeOffset() + position.offset() + '}';
    }

    private static String jsonBeforeOffset(FilePosition position) {
        StringWriter text = new StringWriter();
        try (JsonGenerator json = JSON.createGenerator(text)) {
            json.disable(JsonGenerator.Feature.AUTO_CLOSE_JSON_CONTENT); // it ends before the offset's value
            json.writeStartObject();
            json.writeNumberField("version", VERSION);
            json.writeStringField("path", position.path());
            FileIdentity file = position.file();
            if (file == null) {
                json.writeNullField("file");
            } else {
                json.writeObjectFieldStart("file");
                json.writeNumberField("device", file.device());
                json.writeNumberField("inode", file.inode());
                json.writeNumberField("fingerprintBytes", file.fingerprintBytes());
                json.writeStringField("fingerprint", file.fingerprint());
                json.writeEndObject();
            }
            json.writeFieldName("offset");
            json.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a string cannot fail", e);
        }
        return text + ":"; // the generator writes a field's colon with its value
    }

    /** Reads a stored position of this {@link #VERSION}. */
    static FilePosition decode(String stored) throws IOException {
        try (JsonParser json = JSON.createParser(stored)) {
            expect(json, JsonToken.START_OBJECT);
            int version = 0;
            String path = null;
            FileIdentity file = null;
            long offset = 0;
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                json.nextToken();
                switch (field) {
                    case "version" -> version = json.getIntValue();
                    case "path" -> path = json.getValueAsString();
                    case "file" -> file = decodeFile(json);
                    case "offset" -> offset = json.getLongValue();
                    default -> throw new IllegalArgumentException("unknown field '" + field + "'");
                }
            }
            if (version != VERSION) {
                throw new IllegalArgumentException("version " + version + " is not this agent's " + VERSION);
            }
            return new FilePosition(path, file, offset);
        }
    }

    private static FileIdentity decodeFile(JsonParser json) throws IOException {
        if (json.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        expectCurrent(json, JsonToken.START_OBJECT);
        long device = 0;
        long inode = 0;
        int fingerprintBytes = 0;
        String fingerprint = null;
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            String field = json.currentName();
            json.nextToken();
            switch (field) {
                case "device" -> device = json.getLongValue();
                case "inode" -> inode = json.getLongValue();
                case "fingerprintBytes" -> fingerprintBytes = json.getIntValue();
                case "fingerprint" -> fingerprint = json.getValueAsString();
                default -> throw new IllegalArgumentException("unknown field 'file." + field + "'");
            }
        }
        return new FileIdentity(device, inode, fingerprintBytes, fingerprint);
    }

    private static void expect(JsonParser json, JsonToken token) throws IOException {
        json.nextToken();
        expectCurrent(json, token);
    }

    private static void expectCurrent(JsonParser json, JsonToken token) throws IOException {
        if (json.currentToken() != token) {
            throw new IllegalArgumentException("expected " + token + " at " + json.currentLocation().getColumnNr()
                    + ", found " + json.currentToken());
        }
    }
}
