package com.example.shop;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Password storage and reset tokens for customer accounts. */
public final class Passwords {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Passwords() {}

    /** VULNERABLE: unsalted MD5 is a weak password hash. */
    public static String hash(String password) throws NoSuchAlgorithmException {
        MessageDigest md = MessageDigest.getInstance("MD5");
        return HexFormat.of().formatHex(md.digest(password.getBytes(StandardCharsets.UTF_8)));
    }

    /** Safe: reset tokens come from SecureRandom. */
    public static String resetToken() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
