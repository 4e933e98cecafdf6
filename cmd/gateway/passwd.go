package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// cmdPasswd is `gateway passwd`: it prints the bcrypt hash of a password
// for broker.users[].password_hash. The password is read from stdin (its
// first line) or, on a terminal, from a prompt without echo, asked twice.
func cmdPasswd(args []string, in *os.File, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cost := fs.Int("cost", bcrypt.DefaultCost, "bcrypt `cost` (4 to 31; each step doubles the time a login takes)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{0}
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway passwd: unexpected argument %q (the password is read from stdin or a prompt, never from the command line)\n", fs.Arg(0))
		return errUsage
	}
	pw, err := readPassword(in, stderr)
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), *cost)
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	fmt.Fprintln(stdout, string(hash))
	return nil
}

//

// readPassword reads the password from a terminal (twice, without echo) or
// the first line of a pipe or file.
func readPassword(in *os.File, prompt io.Writer) (string, error) {
	restore, err := echoOff(int(in.Fd()))
	if err != nil { // not a terminal (or no way to turn echo off here)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("passwd: read stdin: %w", err)
		}
		return nonEmpty(strings.TrimRight(line, "\r\n"))
	}
	defer restore()
	r := bufio.NewReader(in)
	ask := func(p string) (string, error) {
		fmt.Fprint(prompt, p)
		line, err := r.ReadString('\n')
		fmt.Fprintln(prompt)
		return strings.TrimRight(line, "\r\n"), err
	}
	first, err := ask("password: ")
	if err != nil {
		return "", fmt.Errorf("passwd: read password: %w", err)
	}
	again, err := ask("again: ")
	if err != nil {
		return "", fmt.Errorf("passwd: read password: %w", err)
	}
	if first != again {
		return "", errors.New("passwd: the passwords differ")
	}
	return nonEmpty(first)
}

func nonEmpty(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("passwd: empty password")
	}
	return pw, nil
}
