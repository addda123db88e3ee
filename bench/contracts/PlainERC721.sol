// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @notice Baseline for the gas benchmark: a bare OpenZeppelin ERC721 called directly, no roles, no clone.
contract PlainERC721 is ERC721 {
    uint256 private _next;

    constructor() ERC721("Plain", "PLN") {}

    function mint(address to) external {
        _mint(to, ++_next);
    }

    function mintBatch(address[] calldata to) external {
        uint256 next = _next;
        for (uint256 i; i < to.length; ++i) {
            _mint(to[i], ++next);
        }
        _next = next;
    }
}
