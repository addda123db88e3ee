// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title What a collection asks of the registry that created it
interface IHallmarkRegistry {
    /// @notice The bank's metadata host: a collection without a base URI of its own serves
    ///         `metadataBaseURI() + <collection address> + "/" + <serial>`.
    function metadataBaseURI() external view returns (string memory);

    /// @notice Whether `collection` was created by this registry.
    function isOfficial(address collection) external view returns (bool);
}
